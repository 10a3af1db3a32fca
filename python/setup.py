"""Builds kube_informer with the repository's CMake build (KUBE_INFORMER_BUILD_PYTHON) against the
interpreter running pip, and packages python/kube_informer/ with the compiled extension.

    pip install --no-build-isolation ./python

Environment: KUBE_INFORMER_BUILD_DIR (default: build-python in the repository; kept between
runs, so a second install rebuilds only what changed), CMAKE_ARGS (extra configure arguments)."""

import os
import pathlib
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = pathlib.Path(os.environ.get("KUBE_INFORMER_BUILD_DIR", ROOT / "build-python"))
        args = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                "-DKUBE_INFORMER_BUILD_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}",
                "-DKUBE_INFORMER_BUILD_TESTS=OFF", "-DKUBE_INFORMER_BUILD_EXAMPLES=OFF",
                "-DKUBE_INFORMER_BUILD_BENCHMARKS=OFF", "-DKUBE_INFORMER_INSTALL=OFF"]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        if shutil.which("ccache"):
            args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        args += shlex.split(os.environ.get("CMAKE_ARGS", ""))
        subprocess.check_call(args)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "_kube_informer",
                               "-j", str(os.cpu_count() or 2)])
        built = next((build_dir / "python" / "kube_informer").glob("_kube_informer*.so"))
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(
    name="kube-informer",
    version="0.1.0",
    description="client-go's informers, listers and controller kit for Python, in C++",
    packages=["kube_informer"],
    package_data={"kube_informer": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("kube_informer._kube_informer", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.8",
)
