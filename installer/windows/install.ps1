# Conversa on Windows, for the current user (no administrator): a venv in Conversa's data folder,
# llama-cpp-python from its official prebuilt CPU wheels (no compiler needed), the default model,
# a Start menu shortcut and, with -Autostart, a shortcut in the Startup folder.
#
#   powershell -ExecutionPolicy Bypass -File installer\windows\install.ps1 [-Autostart]
#
# Run it from a checkout. Not run in Conversa's CI (no Windows there): see installer/README.md.
param([switch]$Autostart)
$ErrorActionPreference = 'Stop'

$Src = (Resolve-Path "$PSScriptRoot\..\..").Path
$Data = Join-Path $env:LOCALAPPDATA 'conversa'          # platformdirs' user data dir on Windows
$Venv = Join-Path $Data 'venv'
$WheelIndex = 'https://abetlen.github.io/llama-cpp-python/whl/cpu'

function Step($text) { Write-Host "==> $text" }
function Run($exe, [string[]]$argv) {
    & $exe @argv
    if ($LASTEXITCODE -ne 0) { throw "$exe $($argv -join ' ') failed (exit $LASTEXITCODE)" }
}

# The Python launcher picks the newest installed Python 3.
if (-not (Get-Command py -ErrorAction SilentlyContinue)) {
    throw 'Python 3.11 or newer is needed: install it from python.org (tick "Add python.exe to PATH").'
}
Run py @('-3', '-c', 'import sys; sys.exit(sys.version_info < (3, 11))')

Step "Python packages into $Venv"
New-Item -ItemType Directory -Force -Path $Data | Out-Null
if (-not (Test-Path "$Venv\Scripts\python.exe")) { Run py @('-3', '-m', 'venv', $Venv) }
$Py = "$Venv\Scripts\python.exe"
Run $Py @('-m', 'pip', 'install', '--quiet', '--upgrade', 'pip')
# A prebuilt CPU wheel: no Visual Studio, no CMake. --only-binary makes pip fail clearly
# instead of trying to compile when the index has no wheel for this Python version.
Run $Py @('-m', 'pip', 'install', '--quiet', '--only-binary', 'llama-cpp-python',
          '--extra-index-url', $WheelIndex, 'llama-cpp-python')
Run $Py @('-m', 'pip', 'install', '--quiet', '--only-binary', 'llama-cpp-python',
          '--extra-index-url', $WheelIndex, "$Src[desktop]")

Step 'default model'
Run "$Venv\Scripts\conversa.exe" @('models', 'pull', 'default')

Step 'Start menu shortcut'
$Icon = Join-Path $Data 'conversa.ico'
Copy-Item "$Src\installer\windows\conversa.ico" $Icon -Force
$Shell = New-Object -ComObject WScript.Shell
function Shortcut($path) {
    $lnk = $Shell.CreateShortcut($path)
    $lnk.TargetPath = "$Venv\Scripts\pythonw.exe"     # no console window behind the tray app
    $lnk.Arguments = '-m desktop'
    $lnk.WorkingDirectory = $Data
    $lnk.IconLocation = $Icon
    $lnk.Description = 'Conversa - WhatsApp copilot and mini-CRM'
    $lnk.Save()
}
$Programs = [Environment]::GetFolderPath('Programs')
Shortcut (Join-Path $Programs 'Conversa.lnk')
if ($Autostart) { Shortcut (Join-Path ([Environment]::GetFolderPath('Startup')) 'Conversa.lnk') }

Step 'browser extension'
Run "$Venv\Scripts\conversa.exe" @('extension', 'install')

Write-Host "`nConversa is installed: open it from the Start menu."
