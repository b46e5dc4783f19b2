// Datasets: captioned pictures as training data. Caption readers (TSV/CSV, COCO JSON, Flickr,
// sidecar files) and splits, the decoded image store, the data check before training, training
// batches (captions sampled, pictures augmented and prepared), the synthetic shapes set, and
// WebDataset tar shards with their on-disk pixel caches (Shards/).
// Models, losses and training are Retrieval's.
