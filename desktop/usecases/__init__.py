"""The use cases behind `desktop.service.Service`, one module per area.

No HTTP and no Tk here: the server and the desktop window call the `Service` facade. Store
calls run on the database thread (`Runtime.db`), model work on the engine's thread.
"""
