# Disclosure controls for counts: apply them to a table before it leaves the secure backend.
#
# The R twin of the Python module job_runner.disclosure.controls: the same functions, arguments,
# rules and results (tests/images/test_r_controls.py runs both on the same inputs). Counts are
# whole numbers, missing values are NA, and a redacted count becomes NA (an empty or "NA" cell in
# a CSV). The results are integer vectors (double only for a count beyond R's integer range,
# +-2147483647), keeping names, dim and dimnames. Base R only.
#
#   library(osschoolscontrols)
#   table$pupils <- round_to_base(redact_small(table$pupils, threshold = 7), base = 5)
#   # or, the same as a profile:
#   table$pupils <- control_counts(table$pupils, "opensafely")

# Helpers ------------------------------------------------------------------------------------

controls_error <- function(message, call) {
  stop(errorCondition(message, class = "osschools_controls_error", call = call))
}

# The counts as whole numbers: integer storage when every value fits, else double; attributes
# (names, dim, dimnames) kept. Anything that is not whole numbers is an error that says what and
# where, in the name of the calling function.
as_counts <- function(x, call, where = "") {
  if (is.null(x)) {
    return(integer(0))
  }
  if (is.factor(x) || is.character(x) || is.complex(x) || is.list(x) ||
      !(is.numeric(x) || is.logical(x))) {
    what <- if (is.factor(x)) "factor" else class(x)[1]
    controls_error(sprintf(
      "disclosure controls work on counts (whole numbers); got %s values%s",
      what, where
    ), call)
  }
  if (is.logical(x)) {
    if (any(!is.na(x))) {
      controls_error(sprintf(
        "disclosure controls work on counts (whole numbers); got TRUE/FALSE values%s", where
      ), call)
    }
    storage.mode(x) <- "integer"
    return(x)
  }
  if (is.integer(x)) {
    return(x)
  }
  bad <- which(!is.na(x) & (!is.finite(x) | x != trunc(x)))
  if (length(bad) > 0) {
    controls_error(sprintf(
      "disclosure controls work on counts (whole numbers); got %s (element %d%s)%s",
      format(x[[bad[1]]], digits = 15), bad[1],
      if (length(bad) > 1) sprintf(", and %d more", length(bad) - 1) else "", where
    ), call)
  }
  x[is.nan(x)] <- NA
  fit_integer(x)
}

# Whole numbers in integer storage when they fit, else as doubles.
fit_integer <- function(x) {
  if (all(is.na(x) | abs(x) <= .Machine$integer.max)) {
    storage.mode(x) <- "integer"
  }
  x
}

# Apply `control` (a function of one vector of counts) to a vector, matrix or every column of a
# data.frame (every column must then hold counts, as in Python's DataFrame case).
apply_counts <- function(counts, control, call) {
  if (is.data.frame(counts)) {
    for (name in names(counts)) {
      column <- as_counts(counts[[name]], call, sprintf(" in column `%s`", name))
      counts[[name]] <- control(column)
    }
    return(counts)
  }
  control(as_counts(counts, call))
}

check_flag <- function(value, name, call) {
  if (!is.logical(value) || length(value) != 1 || is.na(value)) {
    controls_error(sprintf("`%s` must be TRUE or FALSE", name), call)
  }
}

check_number <- function(value, name, call) {
  if (!is.numeric(value) || length(value) != 1 || is.na(value)) {
    controls_error(sprintf("`%s` must be one number, not %s", name, deparse1(value)), call)
  }
}

check_base <- function(base, call) {
  if (!is.numeric(base) || length(base) != 1 || is.na(base) || !is.finite(base) ||
      base < 1 || base != trunc(base)) {
    controls_error(sprintf(
      "the rounding base must be a positive whole number, not %s", deparse1(base)
    ), call)
  }
}

# The controls ---------------------------------------------------------------------------------

is_small <- function(counts, threshold, inclusive = TRUE) {
  call <- sys.call()
  check_number(threshold, "threshold", call)
  check_flag(inclusive, "inclusive", call)
  small <- function(x) {
    result <- if (inclusive) x <= threshold else x < threshold
    result[is.na(result)] <- FALSE
    result
  }
  apply_counts(counts, small, call)
}

redact_small <- function(counts, threshold, inclusive = TRUE, redact_zero = TRUE) {
  call <- sys.call()
  check_number(threshold, "threshold", call)
  check_flag(inclusive, "inclusive", call)
  check_flag(redact_zero, "redact_zero", call)
  redact <- function(x) {
    small <- if (inclusive) x <= threshold else x < threshold
    small[is.na(small)] <- FALSE
    if (!redact_zero) {
      small <- small & (is.na(x) | x != 0)
    }
    x[small] <- NA
    x
  }
  apply_counts(counts, redact, call)
}

round_to_base <- function(counts, base = 5) {
  call <- sys.call()
  check_base(base, call)
  base <- as.double(base)
  round_counts <- function(x) {
    values <- as.double(x)
    magnitude <- (abs(values) + base %/% 2) %/% base * base
    values <- ifelse(values >= 0, magnitude, -magnitude)
    attributes(values) <- attributes(x)
    fit_integer(values)
  }
  apply_counts(counts, round_counts, call)
}

midpoint6 <- function(counts) {
  call <- sys.call()
  midpoint <- function(x) {
    if (any(!is.na(x) & x < 0)) {
      controls_error("midpoint-6 rounding is defined for counts of zero or more", call)
    }
    values <- as.double(x)
    values <- -((-values) %/% 6) * 6 - 3 * (values != 0)
    attributes(values) <- attributes(x)
    fit_integer(values)
  }
  apply_counts(counts, midpoint, call)
}

# The sum of the counts given, NA when all of them are NA (pandas' sum with min_count = 1).
sum_shown <- function(values) {
  if (all(is.na(values))) {
    return(NA_integer_)
  }
  fit_integer(sum(as.double(values), na.rm = TRUE))
}

recompute_totals <- function(table, columns = NULL, label = "Total",
                             axis = c("both", "rows", "columns")) {
  call <- sys.call()
  if (!is.data.frame(table)) {
    controls_error("recompute_totals works on a data.frame", call)
  }
  if (!is.character(label) || length(label) != 1 || is.na(label)) {
    controls_error("`label` must be one string", call)
  }
  axis <- match.arg(axis)
  table <- as.data.frame(table, stringsAsFactors = FALSE)
  # An existing total row (the row named `label`) goes: it is recomputed below.
  body <- table[rownames(table) != label, , drop = FALSE]
  if (is.null(columns)) {
    numeric <- vapply(body, is.numeric, logical(1))
    columns <- names(body)[numeric & names(body) != label]
  } else {
    columns <- as.character(columns)
    missing <- setdiff(columns, names(body))
    if (length(missing) > 0) {
      controls_error(sprintf("the table has no column `%s`", missing[1]), call)
    }
  }
  result <- body
  cells <- lapply(columns, function(name) {
    as_counts(body[[name]], call, sprintf(" in column `%s`", name))
  })
  names(cells) <- columns
  if (axis %in% c("columns", "both")) {
    # Each row's sum of the cells shown; NA for a row of only NA (none shown).
    shown <- matrix(
      as.double(unlist(cells, use.names = FALSE)), nrow = nrow(body), ncol = length(cells)
    )
    row_totals <- rowSums(shown, na.rm = TRUE)
    row_totals[rowSums(!is.na(shown)) == 0] <- NA
    result[[label]] <- fit_integer(row_totals)
  }
  if (axis %in% c("rows", "both")) {
    summed <- unique(c(columns, if (label %in% names(result)) label))
    for (name in summed) {
      result[[name]] <- as_counts(result[[name]], call, sprintf(" in column `%s`", name))
    }
    total <- result[NA_integer_, , drop = FALSE]
    for (name in summed) {
      total[[name]] <- sum_shown(result[[name]])
    }
    rownames(total) <- label
    result <- rbind(result, total)
    for (name in summed) {
      result[[name]] <- fit_integer(result[[name]])
    }
  }
  result
}

# Profiles -------------------------------------------------------------------------------------

# The named rule sets, with the parameters of job_runner.disclosure.profiles.PROFILES that the
# controls use. opensafely: counts of 7 or fewer redacted, the rest rounded to the nearest 5.
# srs (ONS Secure Research Service): counts below 10 redacted, no rounding.
profile_settings <- list(
  opensafely = list(
    name = "opensafely", threshold = 7L, inclusive = TRUE, redact_zero = TRUE,
    rounding = "base", base = 5L
  ),
  srs = list(
    name = "srs", threshold = 10L, inclusive = FALSE, redact_zero = TRUE,
    rounding = "none", base = 5L
  )
)

disclosure_profiles <- function() {
  names(profile_settings)
}

with_overrides <- function(settings, overrides, call) {
  if (length(overrides) > 0 && (is.null(names(overrides)) || any(names(overrides) == ""))) {
    controls_error("profile settings are given by name, e.g. threshold = 10", call)
  }
  known <- setdiff(names(profile_settings$opensafely), "name")
  unknown <- setdiff(names(overrides), known)
  if (length(unknown) > 0) {
    controls_error(sprintf(
      "unknown disclosure setting `%s`; the settings are %s",
      unknown[1], paste(known, collapse = ", ")
    ), call)
  }
  for (name in names(overrides)) {
    settings[name] <- list(overrides[[name]])
  }
  if (!is.null(settings$threshold)) {
    check_number(settings$threshold, "threshold", call)
    if (settings$threshold < 0) {
      controls_error(sprintf(
        "the threshold must be zero or more, not %s", deparse1(settings$threshold)
      ), call)
    }
  }
  check_flag(settings$inclusive, "inclusive", call)
  check_flag(settings$redact_zero, "redact_zero", call)
  if (!is.character(settings$rounding) || length(settings$rounding) != 1 ||
      !settings$rounding %in% c("base", "midpoint6", "none")) {
    controls_error(sprintf(
      "rounding must be 'base', 'midpoint6' or 'none', not %s", deparse1(settings$rounding)
    ), call)
  }
  check_base(settings$base, call)
  structure(settings, class = "osschools_profile")
}

disclosure_profile <- function(name = "opensafely", ...) {
  named_profile(name, list(...), sys.call())
}

named_profile <- function(name, overrides, call) {
  if (!is.character(name) || length(name) != 1 || !name %in% names(profile_settings)) {
    controls_error(sprintf(
      "no disclosure profile %s; the profiles are %s",
      deparse1(name), paste(names(profile_settings), collapse = ", ")
    ), call)
  }
  with_overrides(profile_settings[[name]], overrides, call)
}

print.osschools_profile <- function(x, ...) {
  parts <- character(0)
  if (!is.null(x$threshold)) {
    parts <- c(parts, if (x$inclusive) {
      sprintf("counts of %s or fewer redacted", format(x$threshold))
    } else {
      sprintf("counts below %s redacted", format(x$threshold))
    })
    if (!x$redact_zero) {
      parts[length(parts)] <- paste(parts[length(parts)], "(zeros kept)")
    }
  }
  if (x$rounding == "base") {
    parts <- c(parts, sprintf("counts rounded to the nearest %s", format(x$base)))
  } else if (x$rounding == "midpoint6") {
    parts <- c(parts, "counts midpoint-6 rounded")
  }
  if (length(parts) == 0) {
    parts <- "no controls"
  }
  cat(sprintf("%s: %s\n", x$name, paste(parts, collapse = "; ")))
  invisible(x)
}

control_counts <- function(counts, profile = "opensafely", ...) {
  call <- sys.call()
  if (inherits(profile, "osschools_profile")) {
    rules <- with_overrides(unclass(profile), list(...), call)
  } else if (is.character(profile)) {
    rules <- named_profile(profile, list(...), call)
  } else {
    controls_error(
      "`profile` is a profile name (\"opensafely\" or \"srs\") or disclosure_profile(...)", call
    )
  }
  if (is.data.frame(counts) || is.list(counts)) {
    controls_error(paste0(
      "control_counts works on one column of counts at a time, e.g. ",
      "table$pupils <- control_counts(table$pupils)"
    ), call)
  }
  counts <- as_counts(counts, call)
  notes <- rep("unchanged", length(counts))
  notes[is.na(counts)] <- "missing"
  controlled <- counts
  if (!is.null(rules$threshold)) {
    controlled <- redact_small(
      counts, rules$threshold, inclusive = rules$inclusive, redact_zero = rules$redact_zero
    )
  }
  redacted <- is.na(controlled) & !is.na(counts)
  if (rules$rounding == "base") {
    rounded <- round_to_base(controlled, rules$base)
    notes[!is.na(rounded) & !is.na(controlled)] <- "rounded"
    controlled <- rounded
  } else if (rules$rounding == "midpoint6") {
    controlled <- tryCatch(
      midpoint6(controlled),
      osschools_controls_error = function(error) controls_error(conditionMessage(error), call)
    )
    notes[!is.na(controlled)] <- "midpoint6"
  }
  notes[redacted] <- "redacted"
  names(notes) <- names(counts)
  attr(controlled, "notes") <- notes
  controlled
}
