// Retrieval: the model and its training. The dual encoder and its file, the losses, the
// optimisation step and the training loop with its collapse policy and resumable state, the
// collapse monitor, evaluation (Recall@K against chance), and the metrics file, reports and
// replayed diagnosis. Data comes from Datasets; searching folders is Search's.
