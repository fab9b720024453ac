# Before any module of this package imports ConfigSpace: tasks defers scipy.stats (start-up).
import tasks  # noqa: F401
