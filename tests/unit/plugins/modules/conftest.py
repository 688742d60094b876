"""Let the module tests here ``import harness`` (see harness.py for how to write a module's YAML cases)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
