"""`osschools run`: plan the actions of a project.yaml, run each in its own workspace, record
what happened.

planner      which actions to run, in what order, and whether an unchanged one can be skipped
workspace    the folder an action sees (visible project files plus the outputs it needs), and
             collecting its declared outputs back into the project
fingerprint  a hash of everything an action's results depend on
state        the SQLite job state under .osschools/, which survives crashes
executors    the Executor protocol, the local executor and the choice between local and docker
records      metadata/<action>.log, metadata/manifest.json and local disclosure warnings
display      the live table and the final summary
runner       the scheduler that ties them together
cli          the `osschools run` command
"""
