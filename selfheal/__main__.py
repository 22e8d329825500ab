from selfheal.cli import main

raise SystemExit(main())
