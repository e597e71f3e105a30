import Fathom
print("{}")
