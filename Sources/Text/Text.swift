// Text: captions. The tokenizer, the vocabulary (and its file form), encoding captions into id
// batches, and the text tower. It knows nothing of pictures.
