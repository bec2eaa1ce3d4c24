from dashboard.cli.app import main

raise SystemExit(main())
