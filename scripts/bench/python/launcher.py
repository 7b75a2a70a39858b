"""Starts awslambdaric (`python -m awslambdaric MODULE.lambda_handler`) on the handler named
by BENCH_HANDLER, from this directory, as the Lambda Python runtime's bootstrap does. The
start-up bench runs this file directly (shebang rewritten to the bench venv's Python), because
the local Runtime API's process launcher takes a program without arguments."""
import os
import runpy
import sys

here = os.path.dirname(os.path.abspath(__file__))
os.chdir(here)
sys.path.insert(0, here)
sys.argv = ["awslambdaric", os.environ["BENCH_HANDLER"]]
runpy.run_module("awslambdaric", run_name="__main__")
