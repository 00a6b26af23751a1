"""Platform setup: what `chalice deploy` does not make, made or updated after it (issue 6).

`python -m chalicelib.platform.setup --stage S` and `python -m chalicelib.platform.destroy
--stage S` (`make deploy` / `make destroy`). Each module owns one kind of resource and works
like Chalice's own deployer: observe what exists (by name or tag), plan the difference, apply
only that, and report every change. Running setup again changes nothing.

Not imported by the app's routes or steps; it ships in chalicelib only because it reads the
same settings.
"""
