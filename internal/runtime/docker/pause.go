package docker

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// pauseProgram returns a minimal static Linux executable for the engine's
// architecture that does nothing but wait for signals: the process that
// holds a pod's namespaces. No registry can be assumed, so the sandbox image
// is made here rather than pulled (kubelet pulls registry.k8s.io/pause).
// Only amd64 and arm64 are known; for others ok is false.
func pauseProgram(arch string) (elf []byte, ok bool) {
	var machine uint16
	var code []byte
	switch arch {
	case "amd64", "x86_64":
		machine = 62 // EM_X86_64
		code = []byte{
			0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
			0x0f, 0x05, // syscall
			0xeb, 0xf7, // jmp back to mov
		}
	case "arm64", "aarch64":
		machine = 183 // EM_AARCH64
		// arm64 has no pause(2): ppoll(NULL, 0, NULL, NULL, 0) in a loop.
		for _, insn := range []uint32{
			0xd2800000, // mov x0, #0
			0xd2800001, // mov x1, #0
			0xd2800002, // mov x2, #0
			0xd2800003, // mov x3, #0
			0xd2800928, // mov x8, #73 (ppoll)
			0xd4000001, // svc #0
			0x17fffffa, // b back to the first mov
		} {
			code = binary.LittleEndian.AppendUint32(code, insn)
		}
	default:
		return nil, false
	}
	const (
		ehsize = 64
		phsize = 56
		base   = 0x400000
	)
	size := uint64(ehsize + phsize + len(code))
	var b bytes.Buffer
	le := binary.LittleEndian
	w := func(v any) { _ = binary.Write(&b, le, v) }
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* SysV ABI */})
	b.Write(make([]byte, 8))
	w(uint16(2))                      // e_type: ET_EXEC
	w(machine)                        // e_machine
	w(uint32(1))                      // e_version
	w(uint64(base + ehsize + phsize)) // e_entry
	w(uint64(ehsize))                 // e_phoff
	w(uint64(0))                      // e_shoff
	w(uint32(0))                      // e_flags
	w(uint16(ehsize))                 // e_ehsize
	w(uint16(phsize))                 // e_phentsize
	w(uint16(1))                      // e_phnum
	w(uint16(64))                     // e_shentsize
	w(uint16(0))                      // e_shnum
	w(uint16(0))                      // e_shstrndx
	// The one program header: load the whole file, readable and executable.
	w(uint32(1))      // p_type: PT_LOAD
	w(uint32(5))      // p_flags: R+X
	w(uint64(0))      // p_offset
	w(uint64(base))   // p_vaddr
	w(uint64(base))   // p_paddr
	w(size)           // p_filesz
	w(size)           // p_memsz
	w(uint64(0x1000)) // p_align
	b.Write(code)
	return b.Bytes(), true
}

// pauseRootFS returns a tar of the sandbox image's file system: /pause only.
func pauseRootFS(arch string) ([]byte, error) {
	elf, ok := pauseProgram(arch)
	if !ok {
		return nil, fmt.Errorf("docker runtime: no pod sandbox program for architecture %q", arch)
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o555, Size: int64(len(elf)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(elf); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
