"""Measures for the command line tests: the share of girls per school, per term of 2022/23."""

from ehrql_schools import get_parameter
from ehrql_schools.measures import INTERVAL, create_measures, terms
from ehrql_schools.school_year import enrolment_on
from ehrql_schools.tables.schools import pupils

measures = create_measures()
enrolment = enrolment_on(INTERVAL.start_date)
measures.define_defaults(
    denominator=enrolment.exists_for_pupil(), intervals=terms(int(get_parameter("year", "2022")))
)
measures.define_measure("girls", numerator=pupils.sex == "F", group_by={})
measures.define_measure(
    "girls_by_school",
    numerator=pupils.sex == "F",
    group_by={"school": enrolment.school_id, "year_group": enrolment.year_group},
)
if get_parameter("disclosure", "on") == "off":
    measures.configure_disclosure_control(enabled=False)
