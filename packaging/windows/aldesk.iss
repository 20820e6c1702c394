; Inno Setup 6 script: a per-machine (or per-user) installer for the PyInstaller bundle.
; Not built in CI: it needs Windows. Run packaging\windows\build.ps1, which builds the bundle
; with packaging\aldesk.spec (the same spec as the Linux bundle), runs its self-test, then
;     ISCC.exe /DAppVersion=X.Y.Z packaging\windows\aldesk.iss
; The installer writes dist\aldesk-X.Y.Z-windows-x64-setup.exe.

#ifndef AppVersion
  #error Pass the version: ISCC.exe /DAppVersion=0.1.0 aldesk.iss (build.ps1 does)
#endif

[Setup]
AppId={{6F0C1B7E-4B7A-4E55-9F0B-2C8A1D0A1DE5}
AppName=aldesk
AppVersion={#AppVersion}
AppPublisher=aldesk
DefaultDirName={autopf}\aldesk
DefaultGroupName=aldesk
DisableProgramGroupPage=yes
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SetupIconFile=..\..\resources\aldesk.ico
UninstallDisplayIcon={app}\aldesk-gui.exe
OutputDir=..\..\dist
OutputBaseFilename=aldesk-{#AppVersion}-windows-x64-setup
Compression=lzma2/normal
SolidCompression=yes
ChangesAssociations=yes
ChangesEnvironment=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add aldesk to PATH (for 'aldesk' in a command prompt)"; Flags: unchecked

[Files]
; The whole one-folder bundle: aldesk.exe (console: the CLI), aldesk-gui.exe (the window), _internal\
Source: "..\..\dist\aldesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\aldesk"; Filename: "{app}\aldesk-gui.exe"
Name: "{group}\aldesk self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\aldesk.exe"" --self-test"
Name: "{autodesktop}\aldesk"; Filename: "{app}\aldesk-gui.exe"; Tasks: desktopicon

[Registry]
; *.aldesk project files open in aldesk (the file is a SQLite database; the extension decides)
Root: HKA; Subkey: "Software\Classes\.aldesk"; ValueType: string; ValueName: ""; ValueData: "aldesk.project"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\aldesk.project"; ValueType: string; ValueName: ""; ValueData: "aldesk project"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\aldesk.project\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\aldesk-gui.exe,0"
Root: HKA; Subkey: "Software\Classes\aldesk.project\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\aldesk-gui.exe"" ""%1"""
; Optional PATH entry for the console executable (per user or per machine, as installed)
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: not IsAdminInstallMode and NeedsAddPath(ExpandConstant('{app}'))
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: IsAdminInstallMode and NeedsAddPath(ExpandConstant('{app}'))

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
  Root: Integer;
  Key: string;
begin
  if IsAdminInstallMode then begin
    Root := HKEY_LOCAL_MACHINE;
    Key := 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment';
  end else begin
    Root := HKEY_CURRENT_USER;
    Key := 'Environment';
  end;
  if not RegQueryStringValue(Root, Key, 'Path', Path) then
    Result := True
  else
    Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
