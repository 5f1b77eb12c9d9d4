WORD = "howdy"
