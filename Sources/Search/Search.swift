// Search: a folder of pictures made searchable. Folder scanning, incremental indexing with a
// model, the index file format, text and picture queries over an opened index, contact sheets.
// The vectors themselves are searched by VectorIndex; the model comes from Retrieval.
