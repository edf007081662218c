"""Attendance and disadvantage: one row per pupil of compulsory school age on roll on the
autumn census date, with their characteristics and their attendance over the academic year.

Question: how much more do disadvantaged pupils (FSM, SEN, EAL) miss school, and how much more
often are they persistently absent, by phase and year group?

Parameters (`-- --academic_year=2024 --census_date=2024-10-03`):
    academic_year  the academic year, as the calendar year it starts in (default 2024 for 2024/25)
    census_date    the day pupils must be on roll (default: the first Thursday of October, the
                   date of the DfE autumn school census)
"""

import datetime

from ehrql_schools import case, create_dataset, get_parameter, when
from ehrql_schools.school_year import (
    attendance_codes,
    enrolment_on,
    sessions_missed,
    sessions_possible,
)
from ehrql_schools.tables.schools import attendance_sessions, pupil_characteristics, pupils

ACADEMIC_YEAR = int(get_parameter("academic_year", default="2024"))
YEAR_START = datetime.date(ACADEMIC_YEAR, 9, 1)
YEAR_END = datetime.date(ACADEMIC_YEAR + 1, 8, 31)


def first_thursday_of_october(year: int) -> datetime.date:
    first = datetime.date(year, 10, 1)
    return first + datetime.timedelta(days=(3 - first.weekday()) % 7)


CENSUS_DATE = datetime.date.fromisoformat(
    get_parameter("census_date", default=first_thursday_of_october(ACADEMIC_YEAR).isoformat())
)

dataset = create_dataset()

# Population: on roll on the census date (a current single registration C or the main dual
# registration M; subsidiary and guest registrations are another school's pupils), in years 1
# to 11. The DfE's absence statistics cover pupils of compulsory school age (5 to 15), which in
# year-group terms is year 1 to year 11: nursery, reception and the sixth form are left out.
enrolment = enrolment_on(CENSUS_DATE)
COMPULSORY_YEARS = [str(year) for year in range(1, 12)]
dataset.define_population(
    enrolment.exists_for_pupil()
    & enrolment.enrolment_status.is_in(["C", "M"])
    & enrolment.year_group.is_in(COMPULSORY_YEARS)
)

dataset.school_id = enrolment.school_id
dataset.school_phase = enrolment.school.phase
dataset.year_group = enrolment.year_group
# The phase of the pupil's education, from the year group rather than the school: an
# all-through school has both primary and secondary pupils.
dataset.stage = case(
    when(enrolment.year_group.is_in([str(year) for year in range(1, 7)])).then("primary"),
    otherwise="secondary",
)
dataset.sex = pupils.sex

# Characteristics as returned on the census: the latest census record on or before the census
# date in this academic year (the autumn census itself for nearly everyone; a pupil who joined
# after it has no record, and their characteristics are null rather than taken from a later
# census that follows the attendance it is meant to explain).
census = pupil_characteristics.where(
    pupil_characteristics.census_date.is_on_or_between(YEAR_START, CENSUS_DATE)
)
census = census.sort_by(census.census_date).last_for_pupil()
dataset.fsm = census.fsm
dataset.sen_provision = census.sen_provision  # N, K (SEN support), E (EHC plan)
dataset.eal = census.eal

# Attendance over the whole academic year, at any of the trust's schools (the DfE counts a
# pupil's sessions at every school they were on roll at). A session is half a day.
possible = sessions_possible(YEAR_START, YEAR_END)
missed = sessions_missed(YEAR_START, YEAR_END)
dataset.sessions_possible = possible
dataset.sessions_missed = missed

unauthorised = attendance_sessions.where(
    attendance_sessions.date.is_on_or_between(YEAR_START, YEAR_END)
    & attendance_sessions.attendance_code.is_in(attendance_codes("unauthorised_absence"))
)
dataset.sessions_unauthorised = unauthorised.count_for_pupil()

# Persistent absence: 10% or more of possible sessions missed; severe: 50% or more. Null when
# the pupil had no possible sessions (the rate is undefined; dividing by zero gives null).
absence_rate = missed / possible
dataset.persistent_absence = case(
    when(absence_rate >= 0.1).then(True), when(absence_rate < 0.1).then(False)
)
dataset.severe_absence = case(
    when(absence_rate >= 0.5).then(True), when(absence_rate < 0.5).then(False)
)
