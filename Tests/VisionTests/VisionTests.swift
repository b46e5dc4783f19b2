// Tests for the Vision module.
