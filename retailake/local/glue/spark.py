"""One warm local SparkSession per pipeline run, its S3A filesystem pointed at the emulator.

Maven Central is out of reach, so `spark.jars.packages` cannot fetch hadoop-aws; the jars come
from PyPI's `sagemaker-pyspark` 1.4.5 (hadoop-aws-3.3.1, aws-java-sdk-bundle-1.11.901), which
work beside pyspark 3.5's hadoop-client 3.3.4. That package pins pyspark==3.3.0, so it is
installed with `pip install --no-deps`; RETAILAKE_SPARK_JARS names other jars instead.

The JVM is launched with its stdout/stderr on a log file (not the terminal), and Spark starts
only when a job first asks for a session."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from retailake.errors import ConfigError
from retailake.local.glue.roles import RoleSession
from retailake.local.root_keys import RootKeys

JARS_VARIABLE = "RETAILAKE_SPARK_JARS"
_JAR_PATTERNS = ("hadoop-aws-*.jar", "aws-java-sdk-bundle-*.jar")
_INSTALL_HINT = "pip install --no-deps 'sagemaker-pyspark==1.4.5'"
S3A = "org.apache.hadoop.fs.s3a.S3AFileSystem"
CLIENT_FACTORY = "retailake.local.LocalS3ClientFactory"
SESSION_CREDENTIALS = "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
DIRECT_COMMITTER = "retailake.local.DirectOutputCommitter"
_JAVA_SOURCE = Path(__file__).resolve().parent / "java" / "retailake" / "local"


def find_s3a_jars() -> list[Path]:
    """hadoop-aws and the AWS SDK bundle: RETAILAKE_SPARK_JARS, else sagemaker-pyspark's."""
    configured = os.environ.get(JARS_VARIABLE)
    if configured:
        jars = [Path(p) for p in configured.replace(",", os.pathsep).split(os.pathsep) if p]
        missing = [str(j) for j in jars if not j.is_file()]
        if missing:
            raise ConfigError(f"{JARS_VARIABLE} names missing files: {', '.join(missing)}")
        return jars
    spec = importlib.util.find_spec("sagemaker_pyspark")
    folder = Path(spec.origin).parent / "jars" if spec and spec.origin else None
    found = [next(iter(sorted(folder.glob(p))), None) for p in _JAR_PATTERNS] if folder else []
    jars = [j for j in found if j is not None]
    if len(jars) < len(_JAR_PATTERNS):
        raise ConfigError(
            "local Glue jobs need the hadoop-aws and AWS SDK jars for Spark's S3A filesystem: "
            f"run `{_INSTALL_HINT}` in retailake's environment, or set {JARS_VARIABLE} to "
            "their paths"
        )
    return jars


def compile_twin_classes(jars: list[Path], cache_dir: Path) -> Path | None:
    """Compile the twin's Java classes (`java/retailake/local/*.java`) once per source and
    jars (javac, ~2 s); None without javac.

    LocalS3ClientFactory: without it, S3A renames inside KMS-encrypted buckets fail over the
    emulator's HTTP. DirectOutputCommitter: Parquet written in place, not renamed."""
    sources = sorted(_JAVA_SOURCE.glob("*.java"))
    digest = hashlib.sha256(b"".join(s.read_bytes() for s in sources))
    digest.update("|".join(j.name for j in jars).encode())
    classes = cache_dir / f"twin-classes-{digest.hexdigest()[:12]}"
    if all((classes / "retailake" / "local" / f"{s.stem}.class").is_file() for s in sources):
        return classes
    javac = shutil.which("javac") or _java_home_tool("javac")
    if javac is None:
        logging.getLogger(__name__).warning("javac not found: writes that rename objects in "
                                            "KMS-encrypted buckets will fail locally")
        return None
    classpath = [*jars, *sorted(_pyspark_jars().glob("hadoop-client-api-*.jar"))]
    building = Path(tempfile.mkdtemp(prefix=".build-", dir=_mkdir(cache_dir)))
    done = subprocess.run(
        [javac, "-nowarn", "-source", "11", "-target", "11", "-d", str(building),
         "-cp", os.pathsep.join(str(p) for p in classpath), *map(str, sources)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        names = ", ".join(s.name for s in sources)
        raise ConfigError(f"compiling {names} failed: {done.stderr.strip()[-800:]}")
    try:
        building.rename(classes)
    except OSError:  # another process finished first
        shutil.rmtree(building, ignore_errors=True)
    return classes


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _java_home_tool(name: str) -> str | None:
    home = os.environ.get("JAVA_HOME")
    tool = Path(home) / "bin" / name if home else None
    return str(tool) if tool and tool.is_file() else None


def _pyspark_jars() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "jars"


def spark_conf(endpoint_url: str, region: str, keys: RootKeys, jars: list[Path],
               twin_classes: Path | None = None, work_dir: Path | None = None) -> dict[str, str]:
    """The session's settings: small and quick on two cores, UTC, s3:// and s3a:// via S3A
    with the twin's root keys (a job's own role replaces them, see `acting_as`)."""
    conf = {
        "spark.master": "local[2]",
        "spark.app.name": "retailake-local-glue",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.adaptive.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        # list a job's raw objects on the driver: a distributed listing job (Spark's choice
        # past 32 paths, made for clusters) took seconds longer on two local cores
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
        # Input splits of 64 MB, not 128: a customers run's first delivery (136 MB) was read
        # and checked by one task of 8 s while the other core had little left to do.
        "spark.sql.files.maxPartitionBytes": "64m",
        # A job caches the rows it has checked, uncompressed: building the cache compressed
        # (per-column dictionary statistics) took a sixth of a 10M-line sales run. Blocks past
        # memory go to local disk; with 2g, counting 10M key hashes beside that cache ran out.
        "spark.driver.memory": "4g",
        # A job's write task holds the rows of a few partition folders (it rebalances by the
        # folder): a writer per folder open at once, not a sort of every row by folder before
        # the write (at 10M sales lines that sort was 3 s of the 17 s write stage).
        "spark.sql.optimizer.plannedWrite.enabled": "false",
        "spark.sql.maxConcurrentOutputFileWriters": "16",
        "spark.sql.inMemoryColumnarStorage.compressed": "false",
        # The JIT may compile generated code past 8 KB of bytecode: the contract check's stage
        # is one such method, and interpreted it ran 3x slower (10 s against 3.6 s per million
        # inventory rows). The throughput collector suits a batch JVM on two cores. Every run
        # is a new JVM whose C2 compiles ~7,500 methods (-XX:+CITime: ~73 s of compile time in
        # a 100 s run at 1M lines); the inlining limits of JDK 8 cut that by a quarter.
        "spark.driver.extraJavaOptions": " ".join([
            "-XX:-DontCompileHugeMethods", "-XX:+UseParallelGC",
            "-XX:MaxInlineLevel=9", "-XX:InlineSmallCode=1000",
        ]),
        # on the driver's class path, not spark.jars: in local mode the executor would copy
        # every spark.jars file (the SDK bundle is 180 MB) before its first task, ~7 s
        "spark.driver.extraClassPath": os.pathsep.join(
            str(p) for p in [*jars, *([twin_classes] if twin_classes else [])]),
    }
    hadoop = {
        "fs.s3.impl": S3A,
        "fs.s3a.impl": S3A,
        "fs.s3a.endpoint": endpoint_url,
        "fs.s3a.endpoint.region": region,
        "fs.s3a.path.style.access": "true",
        "fs.s3a.access.key": keys.access_key,
        "fs.s3a.secret.key": keys.secret_key,
        "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "fs.s3a.connection.ssl.enabled": "false",
        "fs.s3a.fast.upload": "true",
        "mapreduce.fileoutputcommitter.algorithm.version": "2",
        # fewer requests per file written: no parent-marker deletes after every PUT
        "fs.s3a.directory.marker.retention": "keep",
        # An emulator that stopped mid-run fails the job in seconds: the SDK's 20 attempts
        # under S3A's own 7 retries, each backing off, held a run for over 10 minutes.
        "fs.s3a.attempts.maximum": "3",
        "fs.s3a.retry.limit": "3",
        "fs.s3a.retry.interval": "250ms",
    }
    if twin_classes is not None:
        hadoop["fs.s3a.s3.client.factory.impl"] = CLIENT_FACTORY
        # Parquet lands on its final key, not renamed there (see DirectOutputCommitter.java):
        # a rename copied every byte through the emulator, 12-16 s of a 10M customers job.
        conf["spark.sql.parquet.output.committer.class"] = DIRECT_COMMITTER
    if work_dir is not None:
        # Shuffle files and cached blocks spilled to disk hold the customers' raw rows: in an
        # owner-only folder of the twin's, not in /tmp beside every other user's
        conf["spark.local.dir"] = str(work_dir)
    conf.update({f"spark.hadoop.{k}": v for k, v in hadoop.items()})
    return conf


def fresh_work_dir(cache_dir: Path) -> Path:
    """An empty owner-only folder for Spark's scratch files. What a killed run left there
    (shuffles, spilled rows, raw customers' among them) goes first: a run holds the twin's
    run lock, so no other run is using it."""
    work_dir = cache_dir / "work"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(mode=0o700, parents=True)
    return work_dir


def _shut_down(gateway: Any) -> None:
    """Close pyspark's gateway and end its JVM, which exits when its stdin closes."""
    from pyspark import SparkContext

    process = getattr(gateway, "proc", None)
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SparkRuntime:
    """A lazily started SparkSession shared by every job of a pipeline run."""

    def __init__(self, endpoint_url: str, region: str, log_file: Path, *, keys: RootKeys,
                 cache_dir: Path | None = None) -> None:
        self.endpoint_url = endpoint_url
        self.keys = keys
        self.cache_dir = cache_dir or log_file.parent
        self.region = region
        self.log_file = log_file
        self.startup_seconds: float | None = None
        self._session: Any = None
        self._log: IO[bytes] | None = None
        self._py_files: set[str] = set()
        self._owns_context = False
        self._sigint_before: Any = None
        self._work_dir: Path | None = None
        self.interrupted = False

    def session(self) -> Any:
        """The SparkSession, started on first use (7-11 s cold on two cores)."""
        if self._session is None:
            self._session = self._start()
        return self._session

    def job_folder(self) -> Path:
        """A new folder for a job's downloaded code, in the run's scratch folder, which the
        next run empties when it starts Spark: a run killed mid-job leaves nothing in /tmp."""
        self.session()
        return Path(tempfile.mkdtemp(prefix="job-", dir=self._work_dir))

    def _start(self) -> Any:
        from pyspark import SparkConf, SparkContext
        from pyspark.java_gateway import launch_gateway
        from pyspark.sql import SparkSession

        began = time.monotonic()
        jars = find_s3a_jars()
        classes = compile_twin_classes(jars, self.cache_dir)
        self._work_dir = fresh_work_dir(self.cache_dir)
        conf_values = spark_conf(self.endpoint_url, self.region, self.keys, jars, classes,
                                 self._work_dir)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        active = SparkContext._active_spark_context
        if active is not None:  # someone else's context (a test fixture): configure it in place
            hadoop_conf = active._jsc.hadoopConfiguration()
            for key, value in conf_values.items():
                if key.startswith("spark.hadoop."):
                    hadoop_conf.set(key.removeprefix("spark.hadoop."), value)
            context = active
        else:
            conf = SparkConf().setAll(list(conf_values.items()))
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_file, "ab")  # noqa: SIM115 - the JVM keeps it open
            gateway = launch_gateway(conf, popen_kwargs={"stdout": self._log,
                                                         "stderr": self._log})
            try:
                context = SparkContext(conf=conf, gateway=gateway)
            except BaseException:  # pyspark keeps a failed context's gateway, and its JVM
                _shut_down(gateway)  # would outlive the run, a new one started for every job
                raise
            self._owns_context = True
        try:
            context.setLogLevel("WARN")
            self._watch_interrupts()
            session = SparkSession(context)
        except BaseException:  # a Ctrl-C here: no session for `stop` to end the JVM by
            if self._owns_context:
                with contextlib.suppress(Exception):
                    context.stop()
                if SparkContext._gateway is not None:
                    _shut_down(SparkContext._gateway)
                self._owns_context = False
            raise
        self.startup_seconds = time.monotonic() - began
        return session

    def _watch_interrupts(self) -> None:
        """Remember a Ctrl-C. pyspark's own handler cancels the running Spark jobs, and the
        script then sees a Py4JError, not a KeyboardInterrupt: the runner asks `interrupted`
        to stop the pipeline instead of going on to the next job."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._sigint_before = signal.getsignal(signal.SIGINT)
        inner = self._sigint_before

        def on_interrupt(signum: int, frame: Any) -> None:
            self.interrupted = True
            if callable(inner):
                inner(signum, frame)
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_interrupt)

    @contextlib.contextmanager
    def acting_as(self, role: RoleSession) -> Iterator[None]:
        """S3A signs as `role` inside, as a Glue job's file system does with its role's
        session; the twin's own keys again after. S3A reads credentials when it makes a file
        system, so the open ones (Hadoop caches them across jobs) are closed each time."""
        context = self.session().sparkContext
        hadoop_conf = context._jsc.hadoopConfiguration()
        wanted = {
            "fs.s3a.aws.credentials.provider": SESSION_CREDENTIALS,
            "fs.s3a.access.key": role.access_key,
            "fs.s3a.secret.key": role.secret_key,
            "fs.s3a.session.token": role.token,
        }
        before = {key: hadoop_conf.get(key) for key in wanted}

        def use(values: dict[str, str | None]) -> None:
            for key, value in values.items():
                if value is None:
                    hadoop_conf.unset(key)
                else:
                    hadoop_conf.set(key, value)
            context._jvm.org.apache.hadoop.fs.FileSystem.closeAll()

        use(dict(wanted))
        try:
            yield
        finally:
            use(before)

    def add_py_file(self, path: Path) -> None:
        """Ship a job's --extra-py-files to Python workers (once per distinct file)."""
        if self._session is None or path.name in self._py_files:
            return
        self._py_files.add(path.name)
        try:
            self._session.sparkContext.addPyFile(str(path))
        except Exception as error:  # a same-named .py of an earlier job: workers keep that one
            logging.getLogger(__name__).warning("addPyFile(%s) refused: %s", path, error)

    def stop(self) -> None:
        """Stop Spark and end its JVM, if they were started here; a JVM already gone (killed,
        out of memory) is only cleaned up after."""
        try:
            if self._session is not None and self._owns_context:
                self._end_jvm()
        finally:
            self._release()

    def _end_jvm(self) -> None:
        from py4j.protocol import Py4JError
        from pyspark import SparkContext

        with contextlib.suppress(Py4JError):  # no JVM left to answer: the rest still runs
            self._session.stop()
        if SparkContext._gateway is not None:
            _shut_down(SparkContext._gateway)

    def _release(self) -> None:
        """Forget the session, give Ctrl-C back, close the log: whether or not Spark stopped."""
        self._session = None
        self._owns_context = False
        main = threading.current_thread() is threading.main_thread()
        if self._sigint_before is not None and main:
            signal.signal(signal.SIGINT, self._sigint_before)
            self._sigint_before = None
        if self._log is not None:
            self._log.close()
            self._log = None
