"""Forms: the survey's are built from the questionnaire; the admin ones are static."""
