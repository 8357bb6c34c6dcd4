; Inno Setup script: wraps dist\erp_desktop (from installers\erp_desktop.spec) in a
; per-user installer. Company files live in the user's data folder (platformdirs),
; never in Program Files, so uninstalling never touches a company's data.
[Setup]
AppName=erp_desktop
AppVersion=0.1.0
DefaultDirName={autopf}\erp_desktop
DefaultGroupName=erp_desktop
PrivilegesRequiredOverridesAllowed=dialog
OutputBaseFilename=erp_desktop-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Files]
Source: "..\..\dist\erp_desktop\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\erp_desktop"; Filename: "{app}\erp_desktop.exe"
Name: "{autodesktop}\erp_desktop"; Filename: "{app}\erp_desktop.exe"; Tasks: desktopicon

[Tasks]
Name: desktopicon; Description: "Create a desktop shortcut"; Flags: unchecked
