"""project.yaml: loading, validation with line numbers, and planning helpers.

pipeline = load_pipeline("project.yaml")   # raises PipelineError listing every problem
pipeline.plan(["run_all"])                 # action names in running order
"""

from job_runner.pipeline.errors import PipelineError, Position, Problem
from job_runner.pipeline.models import (
    IMAGES,
    RUN_ALL,
    Action,
    Command,
    Outputs,
    Pipeline,
    UnknownActionError,
)
from job_runner.pipeline.outputs import MODERATELY_SENSITIVE_TYPES, check_output_path, matches
from job_runner.pipeline.validation import load_pipeline, parse_pipeline

__all__ = [
    "IMAGES",
    "MODERATELY_SENSITIVE_TYPES",
    "RUN_ALL",
    "Action",
    "Command",
    "Outputs",
    "Pipeline",
    "PipelineError",
    "Position",
    "Problem",
    "UnknownActionError",
    "check_output_path",
    "load_pipeline",
    "matches",
    "parse_pipeline",
]
