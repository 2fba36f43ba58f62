"""The recurrent language model: tokenizer, network, TBPTT training, checkpoints, prediction.

Nothing here imports Flask: the service uses this package only through
`model.checkpoint.load_latest` and `model.predict.Predictor`.
"""
