from dashboard.cli.commands import main

raise SystemExit(main())
