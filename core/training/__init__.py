"""Training load, pure: power and heart-rate loads per activity, the fitness/fatigue/form
series over days, and which threshold (FTP, LTHR...) was in force on a day."""
