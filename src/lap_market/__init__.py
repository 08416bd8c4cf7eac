"""LAP Market: joint procurement for the London Archives Partnership."""
