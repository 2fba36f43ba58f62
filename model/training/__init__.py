"""Training: a corpus directory in, a model version out, by truncated BPTT.

    python -m model.training --help

config.py declares every option; options.py builds the command line and reads presets/*.toml;
run.py runs a whole training (data.py → trainer.py → model/checkpoint.py); trainer.py is the loop,
with schedule.py, regularizers.py and batching.py; resume.py saves and restores an unfinished run;
distributed.py runs it under torchrun. The service imports none of it; the network (model/rnn_lm.py)
calls two functions of regularizers.py, and only while training.
"""
