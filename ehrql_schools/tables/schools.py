"""Tables of the standardised MAT dataset, to use in dataset definitions.

Generated from schema/ by `python -m ehrql_schools.tables.generate`: do not edit.
"""

from ehrql_schools.query_language import (
    BoolSeries,
    DateSeries,
    FloatSeries,
    IntSeries,
    PupilEventFrame,
    PupilFrame,
    ReferenceFrame,
    StrSeries,
    TeacherEventFrame,
    TeacherFrame,
    TimeSeries,
    column,
    lookup,
    related,
    table,
    unknown_table,
)

__all__ = [
    "ks2_results",
    "ks4_results",
    "pupils",
    "results",
    "schools",
    "students",
    "teachers",
    "assessments",
    "attendance_sessions",
    "classes",
    "enrolments",
    "exclusions",
    "periods",
    "pupil_characteristics",
    "teacher_contracts",
    "assessment_results",
    "class_memberships",
    "class_teachers",
    "lessons",
    "behaviour_events",
]


@table
class ks2_results(PupilEventFrame):
    """Key stage 2 (end of year 6) results: one row per pupil per subject. Tests (reading, maths,
    GPS) give a scaled score from 80 to 120 (100 is the expected standard, 110 the higher
    standard); writing is teacher assessed. Often missing for pupils who joined the trust in
    secondary school.
    """

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    academic_year = column(IntSeries)
    """Academic year of the assessment (start year). Never null."""

    subject = column(StrSeries)
    """Subject. Codes from the ks2_subject code list. Never null."""

    scaled_score = column(IntSeries)
    """Scaled score for test subjects when a score was awarded; null otherwise. May be null."""

    status = column(StrSeries)
    """Outcome status. Codes from the ks2_status code list. Never null."""

    writing_judgement = column(StrSeries)
    """Writing teacher assessment; null for test subjects. Codes from the ks2_writing_judgement code
    list. May be null.
    """


@table
class ks4_results(PupilEventFrame):
    """Key stage 4 (end of year 11) results, one row per pupil per qualification taken."""

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    academic_year = column(IntSeries)
    """Academic year of the award (start year). Never null."""

    subject = column(StrSeries)
    """Subject. Codes from the subject code list. Never null."""

    qualification = column(StrSeries)
    """Qualification type. Codes from the qualification code list. Never null."""

    grade = column(StrSeries)
    """Grade (9-1 or U; vocational grades are mapped to their GCSE equivalent). Codes from the
    ks4_grade code list. Never null.
    """

    points = column(FloatSeries)
    """Attainment 8 points of the grade (9 to 1, U is 0). Never null."""

    attainment8_slot = column(StrSeries)
    """The Attainment 8 slot this result fills; null when it does not count. Codes from the
    attainment8_slot code list. May be null.
    """


@table
class pupils(PupilFrame):
    """One row per pupil who has ever been on the roll of one of the trust's schools in the data's
    time span. The pupil_id is a pseudonymous identifier that is stable across schools and years
    within the trust.
    """

    pupil_id = column(IntSeries)
    """Pseudonymous pupil identifier. Never null."""

    upn = column(StrSeries)
    """Unique pupil number: a check letter, the 3-digit LA code, the 4-digit establishment number,
    the 2-digit year of allocation and a 3-digit serial. Direct identifier: never released. Never
    null.
    """

    sex = column(StrSeries)
    """Sex. Codes from the sex code list. Never null."""

    date_of_birth = column(DateSeries)
    """Date of birth, truncated to the first of the month. Never null."""

    ethnicity = column(StrSeries)
    """Ethnicity (main category code). Codes from the ethnicity code list. Never null."""

    first_language = column(StrSeries)
    """First language. Codes from the first_language code list. Never null."""


@table
class results(PupilEventFrame):
    """The OpenSAFELY Schools pilot's researcher-facing results table, so that existing pilot
    queries port: one row per assessment result with its class, the class's teacher when it had
    exactly one (null for shared classes or results without a class), academic year, year group,
    subject, date and score as a percentage.
    """

    result_id = column(IntSeries)
    """The assessment result. Never null."""

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    class_id = column(IntSeries)
    """The class; null when the result was not linked to one. May be null."""

    teacher_id = column(IntSeries)
    """The class's teacher when the class had exactly one; null otherwise. May be null."""

    academic_year = column(IntSeries)
    """Academic year of the assessment (start year). Never null."""

    year_group = column(StrSeries)
    """Year group assessed. Codes from the year_group code list. Never null."""

    subject = column(StrSeries)
    """Subject. Codes from the subject code list. Never null."""

    result_date = column(DateSeries)
    """Date of the result. Never null."""

    score_percent = column(FloatSeries)
    """Result as a percentage of the scale's range; null when not derivable. May be null."""


@table
class schools(ReferenceFrame):
    """One row per school in the trust's data. Reference table: pupils' and teachers' rows reach it
    through school_id.
    """

    school_id = column(IntSeries)
    """Identifier of the school within this dataset. Never null."""

    trust_id = column(IntSeries)
    """Identifier of the multi-academy trust the school belongs to. Never null."""

    urn = column(IntSeries)
    """Unique reference number (Get Information About Schools), six digits. Never null."""

    la_code = column(IntSeries)
    """Local authority code (three digits, e.g. 202 for Camden). Never null."""

    name = column(StrSeries)
    """School name. Never null."""

    phase = column(StrSeries)
    """Phase of education. Codes from the school_phase code list. Never null."""

    school_type = column(StrSeries)
    """Establishment type. Codes from the school_type code list. Never null."""

    age_low = column(IntSeries)
    """Statutory lowest age of pupils. Never null."""

    age_high = column(IntSeries)
    """Statutory highest age of pupils. Never null."""

    region = column(StrSeries)
    """Government office region. Codes from the region code list. Never null."""

    timetable_cycle_days = column(IntSeries)
    """Length of the timetable cycle in school days (5 for a one-week, 10 for a two-week timetable).
    Never null.
    """

    periods_per_day = column(IntSeries)
    """Number of taught periods in a school day. Never null."""

    assessments = related("school_id", lambda: assessments, "school_id")
    """The assessments rows whose school_id is this row's school_id."""

    attendance_sessions = related("school_id", lambda: attendance_sessions, "school_id")
    """The attendance_sessions rows whose school_id is this row's school_id."""

    behaviour_events = related("school_id", lambda: behaviour_events, "school_id")
    """The behaviour_events rows whose school_id is this row's school_id."""

    classes = related("school_id", lambda: classes, "school_id")
    """The classes rows whose school_id is this row's school_id."""

    enrolments = related("school_id", lambda: enrolments, "school_id")
    """The enrolments rows whose school_id is this row's school_id."""

    exclusions = related("school_id", lambda: exclusions, "school_id")
    """The exclusions rows whose school_id is this row's school_id."""

    periods = related("school_id", lambda: periods, "school_id")
    """The periods rows whose school_id is this row's school_id."""

    pupil_characteristics = related("school_id", lambda: pupil_characteristics, "school_id")
    """The pupil_characteristics rows whose school_id is this row's school_id."""

    teacher_contracts = related("school_id", lambda: teacher_contracts, "school_id")
    """The teacher_contracts rows whose school_id is this row's school_id."""


@table
class students(PupilFrame):
    """The OpenSAFELY Schools pilot's researcher-facing pupil table, so that existing pilot queries
    port: one row per pupil, from the pupil's latest enrolment (school, year group), latest
    census characteristics, key stage 2 maths and reading scaled scores, and attendance over that
    academic year. The pilot's reading age is not part of the standard dataset.
    """

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    school_id = column(IntSeries)
    """School of the latest enrolment. Never null."""

    academic_year = column(IntSeries)
    """Academic year of the latest enrolment (start year). Never null."""

    year_group = column(StrSeries)
    """Year group in that academic year. Codes from the year_group code list. Never null."""

    sex = column(StrSeries)
    """Sex. Codes from the sex code list. Never null."""

    ks2_maths = column(IntSeries)
    """KS2 maths scaled score; null when missing. May be null."""

    ks2_reading = column(IntSeries)
    """KS2 reading scaled score; null when missing. May be null."""

    pupil_premium = column(BoolSeries)
    """Pupil premium at the latest census. May be null."""

    eal = column(BoolSeries)
    """English as an additional language at the latest census. May be null."""

    send = column(BoolSeries)
    """Any special educational need (SEN support or EHC plan) at the latest census. May be null."""

    ehcp = column(BoolSeries)
    """Education, health and care plan at the latest census. May be null."""

    looked_after = column(BoolSeries)
    """Looked after at the latest census. May be null."""

    attendance_percent = column(FloatSeries)
    """Sessions attended as a percentage of possible sessions in that academic year. May be null."""


@table
class teachers(TeacherFrame):
    """One row per teacher employed by one of the trust's schools in the data's time span.
    teacher_id is a pseudonymous identifier, stable across schools and years within the trust.
    """

    teacher_id = column(IntSeries)
    """Pseudonymous teacher identifier. Never null."""

    sex = column(StrSeries)
    """Sex. Codes from the sex code list. Never null."""

    birth_year = column(IntSeries)
    """Year of birth. Never null."""

    qts_status = column(StrSeries)
    """Qualified status. Codes from the qts_status code list. Never null."""

    qts_year = column(IntSeries)
    """Year qualified status was awarded; null without it. May be null."""

    training_route = column(StrSeries)
    """Initial teacher training route. Codes from the training_route code list. Never null."""

    main_subject = column(StrSeries)
    """Main specialist subject (primary_class for primary generalists). Codes from the subject code
    list. Never null.
    """

    behaviour_events = related("teacher_id", lambda: behaviour_events, "recorded_by_teacher_id")
    """The behaviour_events rows whose recorded_by_teacher_id is this row's teacher_id."""

    lessons = related("teacher_id", lambda: lessons, "teacher_id")
    """The lessons rows whose teacher_id is this row's teacher_id."""


@table
class assessments(ReferenceFrame):
    """One row per assessment event defined by a school or the trust (a termly data drop, a mock, a
    standardised test), for one subject and year group in one academic year.
    """

    assessment_id = column(IntSeries)
    """Identifier of the assessment. Never null."""

    trust_id = column(IntSeries)
    """The trust that set the assessment. Never null."""

    school_id = column(IntSeries)
    """The school that set the assessment; null for an assessment common across the trust. May be
    null.
    """

    is_common = column(BoolSeries)
    """Common assessment taken across all the trust's schools with this year group. Never null."""

    name = column(StrSeries)
    """Name as shown in the MIS, e.g. "Y9 Maths Spring Assessment". Never null."""

    academic_year = column(IntSeries)
    """Academic year (start year). Never null."""

    subject = column(StrSeries)
    """Subject. Codes from the subject code list. Never null."""

    year_group = column(StrSeries)
    """Year group assessed. Codes from the year_group code list. Never null."""

    assessment_type = column(StrSeries)
    """Kind of assessment. Codes from the assessment_type code list. Never null."""

    scale = column(StrSeries)
    """Scale the results are recorded on. Codes from the assessment_scale code list. Never null."""

    max_mark = column(IntSeries)
    """Maximum raw mark, for raw_mark scales; null otherwise. May be null."""

    term = column(StrSeries)
    """Term in which the assessment window falls. Codes from the term code list. Never null."""

    window_start = column(DateSeries)
    """First day of the assessment window. Never null."""

    window_end = column(DateSeries)
    """Last day of the assessment window. Never null."""

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""

    assessment_results = related("assessment_id", lambda: assessment_results, "assessment_id")
    """The assessment_results rows whose assessment_id is this row's assessment_id."""


@table
class attendance_sessions(PupilEventFrame):
    """One row per pupil per school day per session (AM, PM) on which the pupil was on roll and the
    school was open: the attendance mark. The largest table (about 380 rows per pupil per year).
    """

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    school_id = column(IntSeries)
    """The school that recorded the mark. Never null."""

    date = column(DateSeries)
    """Date of the session. Never null."""

    session = column(StrSeries)
    """Morning (AM) or afternoon (PM) session. One of AM, PM. Never null."""

    attendance_code = column(StrSeries)
    """Attendance or absence code. Codes from the attendance_code code list. Never null."""

    minutes_late = column(IntSeries)
    """Minutes late, for codes L and U; null otherwise. May be null."""

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""


@table
class classes(ReferenceFrame):
    """One row per teaching or registration group in one academic year. Secondary maths, science and
    languages are usually set by attainment (set_rank 1 is the top set).
    """

    class_id = column(IntSeries)
    """Identifier of the class. Never null."""

    school_id = column(IntSeries)
    """The school. Never null."""

    academic_year = column(IntSeries)
    """Academic year (start year). Never null."""

    subject = column(StrSeries)
    """Subject taught (form for registration groups, primary_class for primary classes). Codes from
    the subject code list. Never null.
    """

    year_group = column(StrSeries)
    """Year group of the class. Codes from the year_group code list. Never null."""

    class_code = column(StrSeries)
    """Class code as shown in the MIS, e.g. 10x/Ma2. Never null."""

    grouping = column(StrSeries)
    """How pupils were grouped. Codes from the class_grouping code list. Never null."""

    set_rank = column(IntSeries)
    """Rank of the set (1 = top set) for grouping set; null otherwise. May be null."""

    number_of_sets = column(IntSeries)
    """Number of sets in the year group for this subject, for grouping set; null otherwise. May be
    null.
    """

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""

    assessment_results = related("class_id", lambda: assessment_results, "class_id")
    """The assessment_results rows whose class_id is this row's class_id."""

    class_memberships = related("class_id", lambda: class_memberships, "class_id")
    """The class_memberships rows whose class_id is this row's class_id."""

    class_teachers = related("class_id", lambda: class_teachers, "class_id")
    """The class_teachers rows whose class_id is this row's class_id."""

    lessons = related("class_id", lambda: lessons, "class_id")
    """The lessons rows whose class_id is this row's class_id."""


@table
class enrolments(PupilEventFrame):
    """One row per spell of a pupil on a school's admission register within an academic year. A
    pupil who stays at a school has one row per academic year; joiners and leavers have spells
    that start or end mid-year.
    """

    enrolment_id = column(IntSeries)
    """Surrogate key. Never null."""

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    school_id = column(IntSeries)
    """The school. Never null."""

    academic_year = column(IntSeries)
    """Calendar year in which the academic year starts (2024 means 2024/25, 1 September to 31
    August). Never null.
    """

    start_date = column(DateSeries)
    """First day on roll in this academic year. Never null."""

    end_date = column(DateSeries)
    """Last day on roll in this academic year (31 August for pupils still on roll at its end). Never
    null.
    """

    year_group = column(StrSeries)
    """National curriculum year group in this academic year. Codes from the year_group code list.
    Never null.
    """

    enrolment_status = column(StrSeries)
    """Enrolment status. Codes from the enrolment_status code list. Never null."""

    registration_group = column(StrSeries)
    """Registration (form) group, e.g. 9R or 4B. May be null."""

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""


@table
class exclusions(PupilEventFrame):
    """One row per suspension or permanent exclusion."""

    exclusion_id = column(IntSeries)
    """Surrogate key. Never null."""

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    school_id = column(IntSeries)
    """The excluding school. Never null."""

    start_date = column(DateSeries)
    """First day of the exclusion. Never null."""

    category = column(StrSeries)
    """Permanent exclusion, suspension or lunchtime suspension. Codes from the exclusion_category
    code list. Never null.
    """

    sessions = column(IntSeries)
    """Length in sessions (half days) for suspensions; null for permanent exclusions. May be null.
    """

    reason_1 = column(StrSeries)
    """Main reason. Codes from the exclusion_reason code list. Never null."""

    reason_2 = column(StrSeries)
    """Second reason, if any. Codes from the exclusion_reason code list. May be null."""

    reason_3 = column(StrSeries)
    """Third reason, if any. Codes from the exclusion_reason code list. May be null."""

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""


@table
class periods(ReferenceFrame):
    """One row per taught period of a school's timetable cycle."""

    period_id = column(IntSeries)
    """Identifier of the period. Never null."""

    school_id = column(IntSeries)
    """The school. Never null."""

    day_in_cycle = column(IntSeries)
    """Day of the timetable cycle (1 is the first Monday). Never null."""

    period_number = column(IntSeries)
    """Period of the day, from 1. Never null."""

    start_time = column(TimeSeries)
    """Start time. Never null."""

    end_time = column(TimeSeries)
    """End time. Never null."""

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""

    lessons = related("period_id", lambda: lessons, "period_id")
    """The lessons rows whose period_id is this row's period_id."""


@table
class pupil_characteristics(PupilEventFrame):
    """One row per pupil per termly school census (October, January and May) while on roll: the
    characteristics recorded on the census date.
    """

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    census_date = column(DateSeries)
    """Census date. Never null."""

    school_id = column(IntSeries)
    """The school that returned the census record. Never null."""

    fsm = column(BoolSeries)
    """Eligible for free school meals on the census date. Never null."""

    fsm6 = column(BoolSeries)
    """Eligible for free school meals at any time in the last six years. Never null."""

    pupil_premium = column(BoolSeries)
    """Attracts pupil premium funding (FSM6, looked after or previously looked after, service
    child). Never null.
    """

    eal = column(BoolSeries)
    """English as an additional language (first language other than English). Never null."""

    sen_provision = column(StrSeries)
    """Special educational needs provision. Codes from the sen_provision code list. Never null."""

    sen_primary_need = column(StrSeries)
    """Primary type of special educational need; null when sen_provision is N. Codes from the
    sen_need code list. May be null.
    """

    looked_after = column(BoolSeries)
    """Looked after by a local authority. Never null."""

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""


@table
class teacher_contracts(TeacherEventFrame):
    """One row per contract of a teacher at a school. end_date is null for contracts still running
    at the end of the data. A contract covers every class the teacher teaches at that school.
    """

    contract_id = column(IntSeries)
    """Surrogate key. Never null."""

    teacher_id = column(IntSeries)
    """The teacher. Never null."""

    school_id = column(IntSeries)
    """The school. Never null."""

    start_date = column(DateSeries)
    """First day of the contract. Never null."""

    end_date = column(DateSeries)
    """Last day of the contract; null while it runs. May be null."""

    contract_type = column(StrSeries)
    """Contract type. Codes from the contract_type code list. Never null."""

    post = column(StrSeries)
    """Post. Codes from the teacher_post code list. Never null."""

    pay_range = column(StrSeries)
    """Pay range. Codes from the pay_range code list. Never null."""

    pay_point = column(StrSeries)
    """Point on the pay range, e.g. M3, U2, L12, UQ1, LP4. Never null."""

    fte = column(FloatSeries)
    """Full-time equivalent, above 0 and at most 1. Never null."""

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""


@table
class assessment_results(PupilEventFrame):
    """One row per pupil per assessment taken. The raw result text is kept as recorded in the MIS; a
    numeric value on the assessment's scale and a percentage of the scale's range are derived
    where the scale allows. class_id is null when the MIS did not link the result to a class.
    """

    result_id = column(IntSeries)
    """Surrogate key. Never null."""

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    assessment_id = column(IntSeries)
    """The assessment. Never null."""

    result_date = column(DateSeries)
    """Date the result was recorded. Never null."""

    class_id = column(IntSeries)
    """The class the pupil took the assessment in; null when not recorded. May be null."""

    raw_result = column(StrSeries)
    """Result as recorded, e.g. "6+", "D*", "7B", "104", "EXS", "++" or "37". Never null."""

    numeric_result = column(FloatSeries)
    """Numeric value of the result on its scale (e.g. 6.33 for "6+"); null when not numeric. May be
    null.
    """

    result_percent = column(FloatSeries)
    """Result as a percentage of the scale's range, 0 to 100; null when not derivable. May be null.
    """

    assessment = lookup("assessment_id", lambda: assessments, "assessment_id")
    """The assessments row of assessment_id (null when it has none)."""

    class_ = lookup("class_id", lambda: classes, "class_id")
    """The classes row of class_id (null when it has none)."""


@table
class class_memberships(PupilEventFrame):
    """One row per spell of a pupil in a class."""

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    class_id = column(IntSeries)
    """The class. Never null."""

    start_date = column(DateSeries)
    """First day in the class. Never null."""

    end_date = column(DateSeries)
    """Last day in the class. Never null."""

    class_ = lookup("class_id", lambda: classes, "class_id")
    """The classes row of class_id (null when it has none)."""


@table
class class_teachers(TeacherEventFrame):
    """One row per teacher assigned to a class for the year. About four in five classes have a
    single main teacher; the rest are shared, and the share says what part of the class's lessons
    each teacher takes.
    """

    teacher_id = column(IntSeries)
    """The teacher. Never null."""

    class_id = column(IntSeries)
    """The class. Never null."""

    role = column(StrSeries)
    """The teacher's role for the class. Codes from the class_teacher_role code list. Never null."""

    share_percent = column(FloatSeries)
    """Share of the class's timetabled lessons taught by this teacher. Never null."""

    class_ = lookup("class_id", lambda: classes, "class_id")
    """The classes row of class_id (null when it has none)."""


@table
class lessons(ReferenceFrame):
    """One row per lesson that took place: a class taught in a period on a date. Lessons happen only
    on the school's open days, in the periods of its timetable. is_cover marks a lesson taken by
    a cover teacher.
    """

    lesson_id = column(IntSeries)
    """Identifier of the lesson. Never null."""

    class_id = column(IntSeries)
    """The class. Never null."""

    date = column(DateSeries)
    """Date of the lesson. Never null."""

    period_id = column(IntSeries)
    """The timetable period. Never null."""

    start_time = column(TimeSeries)
    """Start time. Never null."""

    end_time = column(TimeSeries)
    """End time. Never null."""

    room = column(StrSeries)
    """Room code. May be null."""

    teacher_id = column(IntSeries)
    """The teacher who taught the lesson. Never null."""

    is_cover = column(BoolSeries)
    """Taught by a teacher covering for the class's usual teacher. Never null."""

    class_ = lookup("class_id", lambda: classes, "class_id")
    """The classes row of class_id (null when it has none)."""

    period = lookup("period_id", lambda: periods, "period_id")
    """The periods row of period_id (null when it has none)."""

    teacher = lookup("teacher_id", lambda: teachers, "teacher_id")
    """The teachers row of teacher_id (null when it has none)."""

    behaviour_events = related("lesson_id", lambda: behaviour_events, "lesson_id")
    """The behaviour_events rows whose lesson_id is this row's lesson_id."""


@table
class behaviour_events(PupilEventFrame):
    """One row per behaviour incident or achievement recorded for a pupil."""

    event_id = column(IntSeries)
    """Surrogate key. Never null."""

    pupil_id = column(IntSeries)
    """The pupil. Never null."""

    school_id = column(IntSeries)
    """The school. Never null."""

    event_date = column(DateSeries)
    """Date of the event. Never null."""

    lesson_id = column(IntSeries)
    """The lesson it happened in; null outside lessons. May be null."""

    event_type = column(StrSeries)
    """Behaviour incident or achievement. One of behaviour, achievement. Never null."""

    category = column(StrSeries)
    """Category. Codes from the behaviour_category code list. Never null."""

    points = column(IntSeries)
    """Points (negative for behaviour, positive for achievement). Never null."""

    recorded_by_teacher_id = column(IntSeries)
    """The teacher who recorded the event. Never null."""

    school = lookup("school_id", lambda: schools, "school_id")
    """The schools row of school_id (null when it has none)."""

    lesson = lookup("lesson_id", lambda: lessons, "lesson_id")
    """The lessons row of lesson_id (null when it has none)."""

    recorded_by_teacher = lookup("recorded_by_teacher_id", lambda: teachers, "teacher_id")
    """The teachers row of recorded_by_teacher_id (null when it has none)."""


def __getattr__(name: str) -> object:
    """Import errors that suggest the nearest table name."""
    raise unknown_table(name, __all__)
