@echo off
rem The `taskdock` command of an installed Taskdock: Taskdock.exe acting as Node runs the
rem bundled CLI. Lives in <resources>\bin; add that folder to PATH (README "Command line").
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\Taskdock.exe" "%~dp0..\bundles\cli.mjs" %*
exit /b %ERRORLEVEL%
