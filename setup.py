import shlex
import shutil
from configparser import ConfigParser
from pathlib import Path

import setuptools
from setuptools.command.build_py import build_py

# note: all settings are in settings.ini; edit there, not here
config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected:
    assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o:cfg[o] for o in cfg_keys}

licenses = {
    'apache2': ('Apache Software License 2.0','OSI Approved :: Apache Software License'),
    'mit': ('MIT License', 'OSI Approved :: MIT License'),
    'gpl2': ('GNU General Public License v2', 'OSI Approved :: GNU General Public License v2 (GPLv2)'),
    'gpl3': ('GNU General Public License v3', 'OSI Approved :: GNU General Public License v3 (GPLv3)'),
    'bsd3': ('BSD License', 'OSI Approved :: BSD License'),
}
statuses = [ '1 - Planning', '2 - Pre-Alpha', '3 - Alpha',
    '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive' ]
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
if cfg.get('pip_requirements'):
    requirements += shlex.split(cfg.get('pip_requirements', ''))
min_python = cfg['min_python']
lic = licenses.get(cfg['license'].lower(), (cfg['license'], None))
dev_requirements = (cfg.get('dev_requirements') or '').split()

# The wheel carries the notebooks (jetad_nb/nbs/, with their images) and the data files that are not made from a
# few thousand events (jetad_nb/data/; the same list as jetad_nb.run.SHIPPED_DATA): `jetad run` and `jetad lab`
# work from any folder after `pip install`, and make the tutorial samples on first use (jetad_nb.run.tutorial_data).
SHIPPED_DATA = ("extrapolation.h5", "lhco_events.h5", "lhco_rd_events.h5", "lhco_rd_ideal_events.h5",
                "resonant_production.csv", "resonant_rd.csv", "extrapolation_production.csv", "README.md")


class BuildWithNotebooks(build_py):
    "build_py that also copies nbs/*.ipynb, nbs/images/ and the SHIPPED_DATA files of data/ into the package."
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return   # an editable install is a checkout: nbs/ and data/ are used in place
        pkg = Path(self.build_lib) / cfg["lib_path"]
        files = [(f, pkg / "nbs" / f.name) for f in sorted(Path("nbs").glob("*.ipynb"))]
        files += [(f, pkg / "nbs" / f.relative_to("nbs")) for f in sorted(Path("nbs/images").rglob("*")) if f.is_file()]
        files += [(Path("data") / f, pkg / "data" / f) for f in SHIPPED_DATA]
        for src, dst in files:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)


setuptools.setup(
    cmdclass = {"build_py": BuildWithNotebooks},
    name = cfg['lib_name'],
    license = lic[0],
    classifiers = [
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: '+o for o in py_versions[py_versions.index(min_python):]]
      + (['License :: ' + lic[1] ] if lic[1] else []),
    url = cfg['git_url'],
    # namespace discovery: jetad_nb/presets/ (the YAML presets of `jetad run --preset`) has no __init__.py
    packages = setuptools.find_namespace_packages(
        include=[cfg.get('lib_path'), cfg.get('lib_path') + '.*'], exclude=['*.__pycache__']
    ),
    include_package_data = True,
    # the presets ship in the wheel; MANIFEST.in lists them for the source distribution
    package_data = {cfg.get('lib_path') + '.presets': ['*.yaml']},
    install_requires = requirements,
    extras_require={ 'dev': dev_requirements },
    dependency_links = cfg.get('dep_links','').split(),
    python_requires  = '>=' + cfg['min_python'],
    long_description = open('README.md', encoding='utf-8').read(),
    long_description_content_type = 'text/markdown',
    zip_safe = False,
    entry_points = {
        'console_scripts': cfg.get('console_scripts','').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']
    },
    **setup_cfg)
