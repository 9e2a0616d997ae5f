from walletsync.cli import main

raise SystemExit(main())
