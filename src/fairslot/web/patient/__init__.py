"""The patients' own pages (the hospital's booking channel, kind ``hospital_app``)."""
