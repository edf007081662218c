"""Pipelines, planner, executors, output levels, backend agent and output checking (`osschools`)."""
