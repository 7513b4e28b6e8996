# Removes what install.ps1 added: the venv and the shortcuts. The data (conversations, keys,
# models) stays unless -Purge is given and confirmed by typing DELETE.
param([switch]$Purge)
$ErrorActionPreference = 'Stop'
$Data = Join-Path $env:LOCALAPPDATA 'conversa'

if ($Purge) {
    Write-Host "This erases ALL Conversa data in ${Data}: conversations, contacts, keys, models and backups."
    if ((Read-Host 'Type DELETE to confirm') -cne 'DELETE') { Write-Host 'Nothing was removed.'; exit 1 }
}
foreach ($dir in @([Environment]::GetFolderPath('Programs'), [Environment]::GetFolderPath('Startup'))) {
    Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $dir 'Conversa.lnk')
}
Remove-Item -Recurse -Force -ErrorAction SilentlyContinue (Join-Path $Data 'venv')
if ($Purge) {
    Remove-Item -Recurse -Force $Data
    Write-Host 'Conversa and all its data were removed.'
} else {
    Write-Host "Conversa was removed. Your data is kept in $Data (uninstall.ps1 -Purge erases it)."
}
