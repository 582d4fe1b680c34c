//go:build windows

package proxy

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

const (
	connectionsKey  = `SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections`
	inetSettingsKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings`
	policyKey       = `SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\Internet Settings`
)

// ReadSystem reads the WinHTTP default proxy (HKLM WinHttpSettings) and the
// current user's Internet Settings (HKCU DefaultConnectionSettings, else the
// ProxyEnable/ProxyServer/ProxyOverride/AutoConfigURL values). When the
// ProxySettingsPerUser policy is 0 the Internet Settings are the machine's
// (HKLM). A setting that is absent is nil; errors name the registry value and
// leave the rest read.
func ReadSystem() (System, error) {
	var sys System
	var errs []error
	ieRoot, ieRootName := registry.CURRENT_USER, "HKCU"
	if machineWideInetSettings() {
		ieRoot, ieRootName = registry.LOCAL_MACHINE, "HKLM"
	}
	for _, v := range []struct {
		root     registry.Key
		rootName string
		value    string
		dst      **Settings
	}{
		{registry.LOCAL_MACHINE, "HKLM", "WinHttpSettings", &sys.WinHTTP},
		{ieRoot, ieRootName, "DefaultConnectionSettings", &sys.IE},
	} {
		b, err := readBinary(v.root, v.rootName, connectionsKey, v.value)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if b == nil {
			continue
		}
		s, err := ParseConnectionBlob(b)
		if err != nil {
			errs = append(errs, fmt.Errorf(`%s\%s\%s: %w`, v.rootName, connectionsKey, v.value, err))
			continue
		}
		*v.dst = &s
	}
	if sys.IE == nil {
		s, err := readInetValues(ieRoot, ieRootName)
		if err != nil {
			errs = append(errs, err)
		}
		sys.IE = s
	}
	return sys, errors.Join(errs...)
}

// readBinary returns nil, nil when the key or value does not exist.
func readBinary(root registry.Key, rootName, path, name string) ([]byte, error) {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf(`open registry key %s\%s: %w`, rootName, path, err)
	}
	defer k.Close()
	b, _, err := k.GetBinaryValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf(`read registry value %s\%s\%s: %w`, rootName, path, name, err)
	}
	return b, nil
}

// machineWideInetSettings reports whether group policy makes the Internet
// Settings per machine (ProxySettingsPerUser = 0).
func machineWideInetSettings() bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, policyKey, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	v, _, err := k.GetIntegerValue("ProxySettingsPerUser")
	return err == nil && v == 0
}

// readInetValues reads the older plain values of Internet Settings; nil when
// the key does not exist.
func readInetValues(root registry.Key, rootName string) (*Settings, error) {
	k, err := registry.OpenKey(root, inetSettingsKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf(`open registry key %s\%s: %w`, rootName, inetSettingsKey, err)
	}
	defer k.Close()
	var s Settings
	enable, _, _ := k.GetIntegerValue("ProxyEnable")
	s.Server, _, _ = k.GetStringValue("ProxyServer")
	s.Bypass, _, _ = k.GetStringValue("ProxyOverride")
	s.AutoConfigURL, _, _ = k.GetStringValue("AutoConfigURL")
	s.Manual = enable != 0 && s.Server != ""
	return &s, nil
}
