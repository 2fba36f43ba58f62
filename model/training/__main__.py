"""python -m model.training: train a model version (options: model/training/options.py, --help)."""
from model.training.options import main

main()
