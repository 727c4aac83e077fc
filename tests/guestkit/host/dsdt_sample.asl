DefinitionBlock ("", "DSDT", 2, "MODVMM", "KITTEST", 1)
{
    External (\_SB.FOO, DeviceObj)
    Name (\_S5, Package () { 0x05, Zero, Zero, Zero })
    Scope (\_SB)
    {
        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate () {
                IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                IRQNoFlags () {4}
            })
        }
        Device (V000)
        {
            Name (_HID, "LNRO0005")
            Name (_UID, Zero)
            Name (_CCA, One)
            Name (_CRS, ResourceTemplate () {
                Memory32Fixed (ReadWrite, 0xC0001000, 0x00001000)
                Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { 5 }
            })
            Method (_STA, 0, NotSerialized) { Return (0x0F) }
        }
        OperationRegion (GEDR, SystemMemory, 0xFEA00000, 0x04)
        Field (GEDR, DWordAcc, NoLock, WriteAsZeros) { ESEL, 32 }
        Mutex (MTX0, 0)
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A08"))
            Name (_CRS, ResourceTemplate () {
                QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x0, 0x8000000000, 0x80FFFFFFFF, 0x0, 0x100000000)
                DWordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0, 0x1000, 0xFFFF, 0x0, 0xF000)
                FixedIO (0x0070, 0x02)
            })
            Device (CHLD) { Name (_HID, "ACPI0013") Name (_CRS, ResourceTemplate () {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 9, 10 } }) }
        }
        Device (LAST) { Name (_HID, "MVM0001") }
    }
}
