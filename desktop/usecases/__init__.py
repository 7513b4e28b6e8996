"""The use cases behind `desktop.service.Service`, one module per area.

No HTTP and no Tk here: the server calls the `Service` facade, never these modules. Store
calls run on the database thread (`Runtime.db`), model work on the engine's thread.
"""
