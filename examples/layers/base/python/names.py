def who(event):
    return event.get("name", "world")
