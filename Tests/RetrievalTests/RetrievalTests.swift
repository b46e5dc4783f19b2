// Tests for the Retrieval module.
