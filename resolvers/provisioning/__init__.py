"""The machinery behind import, purchase, bind, delete and recovery: see docs/architecture.md."""
