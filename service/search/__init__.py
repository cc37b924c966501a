"""Ad-hoc person search: name plus an identifier, ranked, audited, watched for volume."""
