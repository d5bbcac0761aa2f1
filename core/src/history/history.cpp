// Placeholder: filled by issue 16's work.
