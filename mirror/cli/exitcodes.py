"""Exit codes shared by every subcommand (documented in the README)."""

OK = 0
FAILED = 1  # the command ran and something it checked or processed failed
USAGE = 2  # bad arguments or a bad config file
NOT_AVAILABLE = 3  # the feature cannot run here (bench --sync without the mosquitto broker)
INTERRUPTED = 130
PIPE_CLOSED = 141  # the reader of stdout went away (`| head`): 128 + SIGPIPE, as shell tools exit
