# Builds the Windows installer: run in PowerShell from the repository root on Windows 10/11 x64
# with Python 3.11 (python.org) and Inno Setup 6 installed. Not run in CI (it needs Windows).
#
#     powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# 1. a virtual environment with the pinned dependencies and PyInstaller (constraints.txt;
#    PyPI's torch for Windows is the CPU build),
# 2. the one-folder bundle from packaging\aldesk.spec (the same spec as `make bundle`),
# 3. the bundle's self-test (must print "all checks passed"),
# 4. ISCC.exe on packaging\windows\aldesk.iss -> dist\aldesk-VERSION-windows-x64-setup.exe.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

$python = if ($env:PYTHON) { $env:PYTHON } else { "py -3.11" }
if (-not (Test-Path .venv-win)) { Invoke-Expression "$python -m venv .venv-win" }
$py = ".venv-win\Scripts\python.exe"
& $py -m pip install --disable-pip-version-check -q -c constraints.txt -e ".[bundle]"
if ($LASTEXITCODE) { throw "pip install failed" }

if (Test-Path dist\aldesk) { Remove-Item -Recurse -Force dist\aldesk }
& ".venv-win\Scripts\pyinstaller.exe" --noconfirm --clean --log-level WARN --distpath dist `
    --workpath build\pyinstaller packaging\aldesk.spec
if ($LASTEXITCODE) { throw "PyInstaller failed" }

& dist\aldesk\aldesk.exe --self-test
if ($LASTEXITCODE) { throw "the bundle's self-test failed" }

$version = (& $py -c "import aldesk; print(aldesk.__version__)").Trim()
$iscc = if ($env:ISCC) { $env:ISCC } else { "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $iscc "/DAppVersion=$version" packaging\windows\aldesk.iss
if ($LASTEXITCODE) { throw "ISCC failed" }
Get-ChildItem dist\aldesk-*-setup.exe
