"""Plans: the five-year (or annual) plans of each region."""
