# Times always carry their zone (WIB, the programme's time): a participant in
# Makassar or Jayapura reads a deadline right.
DATETIME_FORMAT = "j N Y H:i T"
SHORT_DATETIME_FORMAT = "d/m/Y H:i T"
