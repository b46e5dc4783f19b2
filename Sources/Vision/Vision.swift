// Vision: pictures. PNG/JPEG decoding and encoding (through CImageCodecs), resizing and
// cropping, the one preprocessing path a model's pictures take, training augmentation, and the
// image tower. It leaves captions to Text and the pairing of pictures with captions to Datasets.
