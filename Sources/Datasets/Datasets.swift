// Datasets: captioned pictures as training data. Caption readers (TSV/CSV, COCO JSON, Flickr,
// sidecar files) and splits, the decoded image store, the data check before training, training
// batches (captions sampled, pictures augmented and prepared), and the synthetic shapes set.
// Models, losses and training are Retrieval's.
