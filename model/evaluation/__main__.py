"""python -m model.evaluation: long-range accuracy by gap of a model version (model/evaluation/probes.py)."""
from model.evaluation.probes import main

main()
