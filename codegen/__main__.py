"""`python -m oneapi_mcp.codegen {specs,generate,check,toolsnaps}`."""

from ._generate import main

raise SystemExit(main())
