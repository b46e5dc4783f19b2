// Tests for the Text module.
